/**
 * Escapes user text for Slack mrkdwn and plain text: `&`, `<` and `>` are Slack's control characters
 * (links, mentions), so a title like `<@U1> & co` must not become a mention.
 * See https://api.slack.com/reference/surfaces/formatting#escaping
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Shortens text to at most `max` characters (UTF-16 units, which never undercounts Slack's characters), ending
 * with `…`. Never splits a surrogate pair. Truncate before escaping, so an entity like `&amp;` is never cut.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return '…'.slice(0, max);
  let cut = max - 1;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}…`;
}
