import { join } from 'node:path';
import { BOT_SCOPES } from '../../src/workspaces';
import { DEPLOY, type Manifest, ROOT, readYaml } from '../support/deploy-files';

const http = readYaml(join(ROOT, 'manifest.yml'))[0]!;
const socket = readYaml(join(DEPLOY, 'slack', 'manifest.socket-mode.yml'))[0]!;

/** The manifest without the request URLs Socket Mode does not use (nor the OAuth redirect, which needs a public URL). */
function withoutUrls(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutUrls);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node as Manifest)
      .filter(([key]) => !['url', 'request_url', 'message_menu_options_url', 'redirect_urls'].includes(key))
      .map(([key, value]) => [key, withoutUrls(value)]),
  );
}

it('the Socket Mode manifest is manifest.yml with Socket Mode on and no request URL', () => {
  expect(socket.settings.socket_mode_enabled).toBe(true);
  expect(http.settings.socket_mode_enabled).toBe(false);
  expect(JSON.stringify(socket)).not.toMatch(/https?:\/\//);
  const expected = withoutUrls(http) as Manifest;
  expected.settings.socket_mode_enabled = true;
  expect(socket).toEqual(expected);
});

it('the OAuth install asks for the scopes manifest.yml lists, and the manifest has its redirect URL and events', () => {
  expect(http.oauth_config.scopes.bot).toEqual(BOT_SCOPES);
  expect(http.oauth_config.redirect_urls).toEqual(['https://donedone.example.com/slack/oauth_redirect']);
  for (const manifest of [http, socket]) {
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(
      expect.arrayContaining(['app_uninstalled', 'tokens_revoked']),
    );
    expect(manifest.settings.org_deploy_enabled).toBe(true);
  }
});
