import type { KnownBlock } from '@slack/types';
import type { AuditEntry } from '../../domain/audit';
import { escapeMrkdwn, truncate } from './escape';

/** A section holds at most 3000 characters; the newest changes are shown when they do not all fit. */
const MAX_SECTION = 3000;

function who(by: string): string {
  if (/^[UW][A-Z0-9]+$/.test(by)) return `<@${by}>`;
  return by === 'api' ? 'the HTTP API' : by;
}

function shown(entry: AuditEntry, value: string | null): string {
  if (value === null) return '_none_';
  if (entry.what === 'owner' && /^[UW][A-Z0-9]+$/.test(value)) return `<@${value}>`;
  return `\`${escapeMrkdwn(truncate(value, 120)).replace(/`/g, "'")}\``;
}

/** One change as a line: when, who, what, before → after. */
export function historyLine(entry: AuditEntry): string {
  const when = entry.at.slice(0, 16).replace('T', ' ');
  if (entry.what === 'proposed') return `${when} · ${who(entry.by)} proposed it`;
  return `${when} · ${who(entry.by)} · ${entry.what}: ${shown(entry, entry.before)} → ${shown(entry, entry.after)}`;
}

/** The *History* of a feature for `show`: every change, newest last, in one section (older ones summarised). */
export function historyBlocks(entries: readonly AuditEntry[]): KnownBlock[] {
  if (entries.length === 0) return [];
  const heading = '*History*';
  const lines: string[] = [];
  let length = heading.length;
  for (let i = entries.length - 1; i >= 0; i--) {
    const line = historyLine(entries[i]!);
    if (length + line.length + 1 > MAX_SECTION - 60) {
      lines.unshift(
        `_…and ${i + 1} earlier change${i === 0 ? '' : 's'} (\`GET /api/features/…\` has them all)_`,
      );
      break;
    }
    lines.unshift(line);
    length += line.length + 1;
  }
  return [{ type: 'section', text: { type: 'mrkdwn', text: [heading, ...lines].join('\n') } }];
}
