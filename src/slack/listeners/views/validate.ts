import type { Expectation } from '../../../domain/model';
import type { Telemetry } from '../../../telemetry/telemetry';
import type { AckDecision } from '../../../tiers/intake';
import { field, readExpectation } from './read-expectation';

export type Values = Parameters<typeof readExpectation>[0];

type Checks = Pick<Telemetry, 'isCatalogName' | 'whyUnmeasurable'>;

function read(values: Values, optional: boolean, telemetry: Checks) {
  return readExpectation(values, {
    optional,
    isCatalogName: telemetry.isCatalogName,
    whyUnmeasurable: (e) => telemetry.whyUnmeasurable(e.metric, e.window),
  });
}

/** The proposal form's fields, each problem tied to its field (`response_action: errors`). */
export function readProposal(
  values: Values,
  telemetry: Checks,
): { title: string; expectation?: Expectation; errors: Record<string, string> } {
  const title = field(values, 'title');
  const { expectation, errors } = read(values, true, telemetry);
  if (!title) errors.title = 'Give the feature a title.';
  else if (title.length > 150) errors.title = `Keep the title to 150 characters (it has ${title.length}).`;
  return { title, ...(expectation ? { expectation } : {}), errors };
}

/** The expectation form's fields. */
export function readAnswer(
  values: Values,
  telemetry: Checks,
): { expectation?: Expectation; errors: Record<string, string> } {
  return read(values, false, telemetry);
}

/**
 * The acknowledgement of each form's submission, decided from the fields alone, for the web tier:
 * field errors are answered in place and nothing is queued; a good submission is queued.
 */
export function submissionDeciders(
  telemetry: Checks,
): Record<string, (body: Record<string, unknown>) => AckDecision> {
  const valuesOf = (body: Record<string, unknown>) =>
    ((body.view as { state?: { values?: Values } } | undefined)?.state?.values ?? {}) as Values;
  const decision = (errors: Record<string, string>, ok: boolean): AckDecision =>
    ok && Object.keys(errors).length === 0
      ? { enqueue: true }
      : { ack: { response_action: 'errors', errors }, enqueue: false };
  return {
    propose_modal: (body) => {
      const { errors } = readProposal(valuesOf(body), telemetry);
      return decision(errors, true);
    },
    answer_modal: (body) => {
      const { expectation, errors } = readAnswer(valuesOf(body), telemetry);
      return decision(errors, expectation !== undefined);
    },
  };
}
