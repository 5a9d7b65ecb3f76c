import { scorecard } from '../../src/domain/scorecard';
import { EXPECTATION, feature, NOW } from '../fixtures/board';

const at = (d: number) => NOW.minus({ days: d }).toISO()!;

describe('scorecard', () => {
  const features = [
    // U1: five features, one iterated (two cycles), one dropped without an expectation.
    feature({ id: 'F-1', ownerId: 'U1', status: 'proposed' }),
    feature({ id: 'F-2', ownerId: 'U1', status: 'dropped' }),
    feature({
      id: 'F-3',
      ownerId: 'U1',
      status: 'met',
      expectation: EXPECTATION,
      launchedAt: at(40),
      firstUseAt: at(39),
    }),
    feature({
      id: 'F-4',
      ownerId: 'U1',
      status: 'decided',
      expectation: EXPECTATION,
      launchedAt: at(60),
      firstUseAt: at(55),
      lastVerdict: 'missed',
      decision: { value: 'remove', by: 'U1', at: at(20) },
    }),
    feature({
      id: 'F-5',
      ownerId: 'U1',
      status: 'in use',
      expectation: EXPECTATION,
      launchedAt: at(10),
      firstUseAt: at(9),
      lastVerdict: 'on track',
      history: [{ expectation: EXPECTATION, launchedAt: at(100), firstUseAt: at(95), verdict: 'missed' }],
    }),
    // U2: launched, waiting for first use; one measurable.
    feature({ id: 'F-6', ownerId: 'U2', status: 'launched', expectation: EXPECTATION, launchedAt: at(3) }),
    feature({ id: 'F-7', ownerId: 'U2', status: 'measurable', expectation: EXPECTATION }),
  ];

  it('counts each owner', () => {
    const card = scorecard(features);
    expect(card.owners.map((o) => o.ownerId)).toEqual(['U1', 'U2']);
    expect(card.owners[0]).toEqual({
      ownerId: 'U1',
      proposed: 5,
      withExpectation: 3,
      withoutExpectation: 2,
      launched: 4, // F-3, F-4, F-5 now and F-5's earlier cycle
      inUse: 4,
      met: 1,
      missed: 2, // F-4 and F-5's earlier cycle
      retrosDecided: 2, // F-4's remove and F-5's iterate (its history entry)
      shareMet: 1 / 3,
    });
    expect(card.owners[1]).toEqual({
      ownerId: 'U2',
      proposed: 2,
      withExpectation: 2,
      withoutExpectation: 0,
      launched: 1,
      inUse: 0,
      met: 0,
      missed: 0,
      retrosDecided: 0,
      shareMet: null,
    });
  });

  it('adds up the team', () => {
    expect(scorecard(features).team).toEqual({
      proposed: 7,
      withExpectation: 5,
      withoutExpectation: 2,
      launched: 5,
      inUse: 4,
      met: 1,
      missed: 2,
      retrosDecided: 2,
      shareMet: 1 / 3,
    });
  });

  it('counts a feature with an expectation only in its history as having one', () => {
    const f = feature({ id: 'F-9', status: 'proposed', history: [{ expectation: EXPECTATION }] });
    expect(scorecard([f]).team).toMatchObject({
      withExpectation: 1,
      withoutExpectation: 0,
      retrosDecided: 1,
    });
  });

  it('does not count an iterate decision twice', () => {
    const f = feature({
      id: 'F-9',
      status: 'measurable',
      expectation: EXPECTATION,
      decision: { value: 'iterate', by: 'U1', at: at(1) },
      history: [{ expectation: EXPECTATION, launchedAt: at(60), verdict: 'met' }],
    });
    expect(scorecard([f]).team).toMatchObject({ retrosDecided: 1, met: 1, shareMet: 1 });
  });

  it('is empty for no features', () => {
    const card = scorecard([]);
    expect(card.owners).toEqual([]);
    expect(card.team.proposed).toBe(0);
    expect(card.team.shareMet).toBeNull();
  });
});
