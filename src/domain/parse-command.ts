import { DateTime } from 'luxon';
import { normaliseFeatureId } from './model';

/** One `/donedone` invocation, parsed. Expectation text is parsed later, with the catalog at hand. */
export type Command =
  | {
      name: 'propose';
      title?: string;
      expectation?: string;
      /**
       * Each way to split the text at a word `expect` (title, expectation), leftmost first; the
       * first whose expectation parses wins, and with none the whole text is the title.
       */
      readings?: ProposalReading[];
      /** The whole text after `propose`, the title when no reading holds an expectation. */
      whole?: string;
    }
  | { name: 'expect'; id: string; expectation: string }
  | { name: 'launch'; id: string; date?: string }
  | { name: 'check' | 'show' | 'usage' | 'retro' | 'suggest'; id: string }
  | { name: 'drop'; id: string; reason?: string }
  | { name: 'list'; scope: 'all' | 'mine' | 'open'; user?: string }
  | { name: 'digest'; action: 'now' | 'off' | 'schedule' }
  | { name: 'digest'; action: 'every'; spec: string }
  | { name: 'scorecard'; user?: string }
  | { name: 'flag'; id: string; key: string; since?: string }
  | { name: 'metrics'; search?: string }
  | { name: 'canary'; id?: string; spec: string }
  | { name: 'owner'; id: string; user: string }
  | { name: 'guard'; id: string; spec: string }
  | { name: 'api-token'; action: 'create' | 'list' }
  | { name: 'api-token'; action: 'revoke'; prefix: string }
  | { name: 'forget-workspace'; confirm: boolean }
  | { name: 'help' };

export interface ProposalReading {
  title: string;
  expectation: string;
}

export type CommandResult = { ok: true; command: Command } | { ok: false; error: string };

export const MAX_TITLE = 150;

const USAGE: Record<string, string> = {
  propose: '/donedone propose Bulk export expect bulk_export_total >= 200 per week within 30 days',
  expect: '/donedone expect F-3 bulk_export_total >= 200 per week within 30 days',
  launch: '/donedone launch F-3 2026-10-01',
  check: '/donedone check F-3',
  show: '/donedone show F-3',
  usage: '/donedone usage F-3',
  retro: '/donedone retro F-3',
  suggest: '/donedone suggest F-3',
  drop: '/donedone drop F-3 superseded by F-7',
  list: '/donedone list mine',
  digest: '/donedone digest every monday 09:00 Europe/Berlin',
  scorecard: '/donedone scorecard @maria',
  flag: '/donedone flag F-3 bulk-export-v2 since 2026-05-01',
  metrics: '/donedone metrics export',
  canary: '/donedone canary checkout_revenue_dollars_total node=canary over 1h',
  owner: '/donedone owner F-3 @maria',
  guard: '/donedone guard F-3 checkout_error_ratio < 2% over 3h auto-pause',
  'api-token': '/donedone api-token revoke ddw_Ab3x9Q',
  'forget-workspace': '/donedone forget-workspace confirm',
};

export function usageOf(name: string): string {
  return USAGE[name] ?? '/donedone help';
}

function error(message: string, name?: string): CommandResult {
  const example = name ? usageOf(name) : '/donedone help';
  return { ok: false, error: `${message}\nExample: \`${example}\`` };
}

/** `<@U123|maria>` or `<@U123>` (Slack escapes mentions in slash commands) → `U123`. */
export function parseUserMention(word: string): string | null {
  const m = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(word);
  return m ? m[1]! : null;
}

/** A `YYYY-MM-DD` that is a real calendar date; null otherwise. */
export function parseDate(text: string): DateTime | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const date = DateTime.fromISO(text, { zone: 'utc' });
  return date.isValid ? date : null;
}

function withId(name: string, rest: string): { id: string; tail: string } | CommandResult {
  const [first = '', ...tail] = rest.split(' ');
  if (!first) return error(`\`${name}\` needs a feature id.`, name);
  const id = normaliseFeatureId(first);
  if (!id) return error(`\`${first}\` is not a feature id: ids look like \`F-3\`.`, name);
  return { id, tail: tail.join(' ').trim() };
}

function isResult(x: unknown): x is CommandResult {
  return typeof x === 'object' && x !== null && 'ok' in x;
}

/**
 * The ways to read `<title> expect <expectation>`: one per word `expect` (a title may contain the
 * word itself: "Users expect faster export"), leftmost first, titles of at most MAX_TITLE.
 */
export function proposalReadings(rest: string): ProposalReading[] {
  const out: ProposalReading[] = [];
  const re = /(^|\s)expect\s+/gi;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    const title = rest.slice(0, m.index).trim();
    const expectation = rest.slice(m.index + m[0].length).trim();
    if (expectation && title.length <= MAX_TITLE) out.push({ title, expectation });
  }
  return out;
}

/** Whether text reads as an attempt at an expectation (it has a comparison), not as words of a title. */
export function looksLikeExpectation(text: string): boolean {
  return /(>=|<=|>|<|&gt;|&lt;|\bat (least|most)\b)/i.test(text);
}

/** Parses the text after `/donedone` (PRODUCT.md's grammar). Pure: feature ids are checked later. */
export function parseCommand(input: string): CommandResult {
  const text = input.trim().replace(/\s+/g, ' ');
  const [verb = '', ...restWords] = text.split(' ');
  const rest = restWords.join(' ');
  const name = verb.toLowerCase();
  switch (name) {
    case '':
    case 'help':
      return { ok: true, command: { name: 'help' } };
    case 'propose': {
      if (!rest) return { ok: true, command: { name: 'propose' } };
      const readings = proposalReadings(rest);
      const first = readings[0];
      const title = first ? first.title : rest;
      if (!title) return error('The proposal needs a title before `expect`.', 'propose');
      if (rest.length > MAX_TITLE && (!first || first.title.length > MAX_TITLE)) {
        return error(
          `The title is ${title.length} characters long; keep it to ${MAX_TITLE} or fewer.`,
          'propose',
        );
      }
      if (!first) return { ok: true, command: { name, title } };
      return {
        ok: true,
        command: { name, title, expectation: first.expectation, readings, whole: rest },
      };
    }
    case 'expect': {
      const r = withId(name, rest);
      if (isResult(r)) return r;
      if (!r.tail) return error('`expect` needs an expectation after the feature id.', name);
      return { ok: true, command: { name, id: r.id, expectation: r.tail } };
    }
    case 'launch': {
      const r = withId(name, rest);
      if (isResult(r)) return r;
      if (!r.tail) return { ok: true, command: { name, id: r.id } };
      if (!parseDate(r.tail)) return error(`\`${r.tail}\` is not a date: write it as YYYY-MM-DD.`, name);
      return { ok: true, command: { name, id: r.id, date: r.tail } };
    }
    case 'check':
    case 'show':
    case 'usage':
    case 'retro':
    case 'suggest': {
      const r = withId(name, rest);
      if (isResult(r)) return r;
      if (r.tail) return error(`I did not understand \`${r.tail}\` after ${r.id}.`, name);
      return { ok: true, command: { name, id: r.id } };
    }
    case 'drop': {
      const r = withId(name, rest);
      if (isResult(r)) return r;
      return { ok: true, command: r.tail ? { name, id: r.id, reason: r.tail } : { name, id: r.id } };
    }
    case 'list': {
      if (!rest) return { ok: true, command: { name, scope: 'open' } };
      if (rest === 'all' || rest === 'mine') return { ok: true, command: { name, scope: rest } };
      const user = parseUserMention(rest);
      if (user) return { ok: true, command: { name, scope: 'all', user } };
      return error(`\`${rest}\` is not a list scope: use \`all\`, \`mine\` or an @mention.`, name);
    }
    case 'digest': {
      if (!rest) return { ok: true, command: { name, action: 'now' } };
      const lower = rest.toLowerCase();
      if (lower === 'off' || lower === 'schedule') return { ok: true, command: { name, action: lower } };
      if (lower.startsWith('every ')) return { ok: true, command: { name, action: 'every', spec: rest } };
      return error(
        `\`digest ${rest}\` is not a digest command: use \`every …\`, \`off\` or \`schedule\`.`,
        name,
      );
    }
    case 'scorecard': {
      if (!rest) return { ok: true, command: { name } };
      const user = parseUserMention(rest);
      if (!user) return error(`\`${rest}\` is not an @mention of a person.`, name);
      return { ok: true, command: { name, user } };
    }
    case 'flag': {
      const r = withId(name, rest);
      if (isResult(r)) return r;
      const m = /^([A-Za-z0-9][A-Za-z0-9_.:-]{0,99})(?: since (\S+))?$/.exec(r.tail);
      if (!m)
        return error(
          '`flag` needs a flag key (letters, digits, `-`, `_`, `.`, `:`), and optionally `since YYYY-MM-DD`.',
          name,
        );
      if (m[2] && !parseDate(m[2])) return error(`\`${m[2]}\` is not a date: write it as YYYY-MM-DD.`, name);
      return {
        ok: true,
        command: m[2] ? { name, id: r.id, key: m[1]!, since: m[2] } : { name, id: r.id, key: m[1]! },
      };
    }
    case 'metrics':
      return { ok: true, command: rest ? { name, search: rest } : { name } };
    case 'canary': {
      if (!rest) return error('`canary` needs a metric and a label, like `node=canary`.', name);
      const [first = '', ...tail] = rest.split(' ');
      const id = normaliseFeatureId(first);
      if (id) return { ok: true, command: { name, id, spec: tail.join(' ') } };
      return { ok: true, command: { name, spec: rest } };
    }
    case 'owner': {
      const r = withId(name, rest);
      if (isResult(r)) return r;
      const user = parseUserMention(r.tail);
      if (!user) return error(`\`owner\` needs the new owner as an @mention after ${r.id}.`, name);
      return { ok: true, command: { name, id: r.id, user } };
    }
    case 'guard': {
      const r = withId(name, rest);
      if (isResult(r)) return r;
      return { ok: true, command: { name, id: r.id, spec: r.tail } };
    }
    case 'api-token': {
      const [action = '', prefix, ...extra] = rest ? rest.split(' ') : [];
      if (!action) return { ok: true, command: { name, action: 'create' } };
      if (action === 'list' && !prefix) return { ok: true, command: { name, action: 'list' } };
      if (action === 'revoke') {
        if (!prefix)
          return error(
            '`api-token revoke` needs the prefix of the token to revoke, as `/donedone api-token list` shows it.',
            name,
          );
        if (extra.length > 0) return error('`api-token revoke` takes one prefix.', name);
        return { ok: true, command: { name, action: 'revoke', prefix } };
      }
      return error(
        `\`api-token\` takes nothing (a new token), \`list\` or \`revoke <prefix>\`; not \`${rest}\`.`,
        name,
      );
    }
    case 'forget-workspace': {
      if (!rest) return { ok: true, command: { name, confirm: false } };
      if (rest.toLowerCase() === 'confirm') return { ok: true, command: { name, confirm: true } };
      return error(`\`forget-workspace\` takes only the word \`confirm\`; not \`${rest}\`.`, name);
    }
    default:
      return error(`\`${verb}\` is not a donedone command. Try \`/donedone help\` for the list.`);
  }
}
