/**
 * API keys live in VS Code's SecretStorage, never in settings or run files.
 * The engine reads a key from an environment variable named in the endpoint
 * config (`api_key_env`); for the length of a run this process sets that
 * variable, and restores it afterwards. Only the variable's name reaches
 * config.json. Sandboxed programs never see it (the sandbox clears the
 * environment).
 */
import * as vscode from 'vscode';

export type KeyTarget = 'executor' | 'planner' | 'judge';

export const KEY_ENV: Record<KeyTarget, string> = {
  executor: 'TRACELIFT_EXECUTOR_API_KEY',
  planner: 'TRACELIFT_PLANNER_API_KEY',
  judge: 'TRACELIFT_JUDGE_API_KEY',
};

const secretName = (t: KeyTarget) => `tracelift.apiKey.${t}`;

export class ApiKeys {
  /** Runs holding each variable, and the value it had before the first of them. */
  private readonly leases = new Map<string, { count: number; previous: string | undefined }>();

  constructor(private readonly secrets: vscode.SecretStorage) {}

  async get(target: KeyTarget): Promise<string | undefined> {
    return (await this.secrets.get(secretName(target))) || undefined;
  }

  async set(target: KeyTarget, key: string): Promise<void> {
    await this.secrets.store(secretName(target), key);
  }

  async clear(target: KeyTarget): Promise<void> {
    await this.secrets.delete(secretName(target));
  }

  /**
   * Puts the stored key (if any) into the target's variable for a run. Returns
   * the variable name to give the engine — null when there is no key at all
   * (none stored, none in the environment) — and a release function.
   */
  async lease(target: KeyTarget): Promise<{ env: string | null; release: () => void }> {
    const env = KEY_ENV[target];
    const key = await this.get(target);
    if (!key) return { env: process.env[env] ? env : null, release: () => {} };
    const held = this.leases.get(env) ?? { count: 0, previous: process.env[env] };
    held.count++;
    this.leases.set(env, held);
    process.env[env] = key;
    let released = false;
    return {
      env,
      release: () => {
        if (released) return;
        released = true;
        const h = this.leases.get(env);
        if (!h || --h.count > 0) return;
        this.leases.delete(env);
        if (h.previous === undefined) delete process.env[env];
        else process.env[env] = h.previous;
      },
    };
  }
}
