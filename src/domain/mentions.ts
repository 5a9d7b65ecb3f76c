/**
 * Slack's special mentions, which notify a whole channel or group: `<!channel>`, `<!here>`,
 * `<!everyone>` and `<!subteam^S123|@team>` (with or without a label). Other `<!…>` sequences
 * (`<!date^…>`) notify nobody and are left alone; so are person mentions (`<@U1>`).
 */
const SPECIAL_MENTION = /<!(channel|here|everyone|subteam\^[^>|]*)(\|[^>]*)?>/gi;

/**
 * Turns every special mention in `text` into the same characters escaped (`&lt;!channel&gt;`), which
 * Slack shows as written and never as a notification. Pure; safe to apply to text that is already
 * escaped (there is nothing left to match).
 */
export function neutraliseMentions(text: string): string {
  return text.replace(SPECIAL_MENTION, (m) => m.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}

/** True when `text` holds a special mention that would notify people. */
export function hasLiveMention(text: string): boolean {
  SPECIAL_MENTION.lastIndex = 0;
  const found = SPECIAL_MENTION.test(text);
  SPECIAL_MENTION.lastIndex = 0;
  return found;
}

/**
 * Undoes Slack's escaping of what a person typed (slash commands with `should_escape`, message
 * events): `&amp;`, `&lt;`, `&gt;` once, `&amp;` last, so `R&amp;D` is stored as `R&D` and escaped
 * once again when shown. Mentions Slack made (`<@U1|maria>`, `<!channel>`) stay as they are.
 */
export function decodeSlackEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
