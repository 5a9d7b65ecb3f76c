/**
 * Which workspaces donedone is installed in, and with which bot token. Every piece of work that
 * speaks to Slack asks here for its workspace's token (PRODUCT.md "Many workspaces, many processes").
 *
 * - Single-workspace mode (`SLACK_BOT_TOKEN`): the one token, for the one workspace it belongs to.
 * - Many-workspace mode (OAuth): the installation's token, decrypted from the store.
 */
export interface WorkspaceRef {
  team: string;
  /** Enterprise Grid: org-wide installs are keyed by enterprise. */
  enterprise?: string;
}

export interface Installed {
  botToken: string;
  botId?: string;
  botUserId?: string;
}

export interface Workspaces {
  /** The installation serving `ref`, or null when there is none (never installed, uninstalled, revoked). */
  installed(ref: WorkspaceRef): Promise<Installed | null>;
}

/** Single-workspace mode: the one token serves the workspace it was issued for, and no other. */
export class SingleWorkspace implements Workspaces {
  /** The token's workspace, learnt by auth.test at start; unknown until then (then every team is served). */
  team: string | undefined;
  constructor(private readonly install: Installed) {}

  async installed(ref: WorkspaceRef): Promise<Installed | null> {
    if (this.team && ref.team !== this.team) return null;
    return this.install;
  }
}
