import type { Authorize, HTTPReceiverOptions, webApi } from '@slack/bolt';
import type { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { RedisClient } from '../store/redis-connection';
import { ApiTokens } from './api-tokens';
import { installedPage, installFailedPage, installPage } from './install-pages';
import { NotInstalledError, RedisInstallationStore } from './installation-store';
import { TokenCipher } from './token-cipher';
import { type Installed, SingleWorkspace, type Workspaces } from './types';

/** The bot scopes the install asks for: manifest.yml's `oauth_config.scopes.bot` (a test keeps them equal). */
export const BOT_SCOPES = [
  'commands',
  'chat:write',
  'chat:write.public',
  'channels:history',
  'groups:history',
  'files:write',
  'users:read',
  'channels:read',
  'groups:read',
  'im:read',
  'mpim:read',
];

/** Bolt's OAuth options (HTTPReceiver's, and App's in Socket Mode): install page, redirect, store. */
export type OAuthOptions = Required<
  Pick<HTTPReceiverOptions, 'clientId' | 'clientSecret' | 'stateSecret' | 'scopes' | 'installationStore'>
> & { installerOptions: NonNullable<HTTPReceiverOptions['installerOptions']> };

/**
 * Which workspaces donedone serves and with which token (PRODUCT.md "Many workspaces, many
 * processes"): one workspace with SLACK_BOT_TOKEN, or many installed through OAuth.
 */
export interface Tenancy {
  workspaces: Workspaces;
  /** Bolt's `authorize` where no OAuth receiver authorizes (workers; single-workspace mode). */
  authorize: Authorize<boolean>;
  /** Many-workspace mode only. */
  installations?: RedisInstallationStore;
  apiTokens?: ApiTokens;
  /** Many-workspace mode: what Bolt's receiver needs to serve /slack/install and /slack/oauth_redirect. */
  oauth?: OAuthOptions;
  /** Single-workspace mode: the one token's workspace and bot, learnt by auth.test at start. */
  single?: {
    workspace: SingleWorkspace;
    learn(identity: { team?: string; botId?: string; botUserId?: string }): void;
  };
}

export function tenancyFrom(deps: {
  config: Config;
  redis: RedisClient;
  prefix: string;
  now: () => DateTime;
  log: Logger;
  clientOptions: webApi.WebClientOptions;
}): Tenancy {
  const { config, log } = deps;
  if (!config.oauth) {
    const install: Installed = { botToken: config.slack.botToken! };
    const workspace = new SingleWorkspace(install);
    return {
      workspaces: workspace,
      single: {
        workspace,
        learn(identity) {
          if (identity.botId) install.botId = identity.botId;
          if (identity.botUserId) install.botUserId = identity.botUserId;
          if (identity.team) workspace.team = identity.team;
        },
      },
      // The one token serves its own workspace only: another team's request is refused, not
      // answered with a token that cannot see it.
      authorize: async (source) => {
        const installed = await workspace.installed({
          team: source.teamId ?? '',
          ...(source.enterpriseId ? { enterprise: source.enterpriseId } : {}),
        });
        if (!installed) {
          log.warn(
            { team: source.teamId, enterprise: source.enterpriseId, served: workspace.team },
            'refused a request from another workspace: SLACK_BOT_TOKEN serves only its own',
          );
          throw new NotInstalledError(source);
        }
        return { ...installed };
      },
    };
  }

  const oauth = config.oauth;
  const installations = new RedisInstallationStore({
    redis: deps.redis,
    prefix: deps.prefix,
    cipher: new TokenCipher(oauth.key, oauth.oldKey),
    now: deps.now,
    log,
  });
  return {
    workspaces: installations,
    installations,
    apiTokens: new ApiTokens({ redis: deps.redis, prefix: deps.prefix, now: deps.now }),
    authorize: (source) => installations.authorize(source),
    oauth: {
      clientId: oauth.clientId,
      clientSecret: oauth.clientSecret,
      stateSecret: oauth.stateSecret,
      scopes: BOT_SCOPES,
      installationStore: installations,
      installerOptions: {
        // oauth.v2.access (and the auth.test after it) at SLACK_API_URL, with the bot's time-outs.
        clientOptions: deps.clientOptions,
        directInstall: false,
        renderHtmlForInstallPath: installPage,
        callbackOptions: { success: installedPage, failure: installFailedPage as never },
      },
    },
  };
}
