/**
 * Webview side of the bridge to the extension host: requests with ids
 * (answered by the host), notifications both ways, every incoming message
 * validated against the view's protocol (src/webviewProtocol) before use.
 */
import type { z } from 'zod';
import {
  EnvelopeSchema,
  PROTOCOL_VERSION,
  describeIssues,
  type RequestName,
  type RequestParamsIn,
  type RequestResult,
  type ToHostName,
  type ToWebviewName,
  type ViewProtocol,
} from '../../../src/webviewProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class WebviewClient<S extends ViewProtocol> {
  private readonly api: VsCodeApi = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, (params: unknown) => void>();

  constructor(
    private readonly spec: S,
    private readonly onProtocolError: (message: string) => void,
  ) {
    window.addEventListener('message', (event: MessageEvent) => this.receive(event.data));
  }

  request<M extends RequestName<S>>(method: M, params: RequestParamsIn<S, M>): Promise<RequestResult<S, M>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject });
      this.api.postMessage({ kind: 'request', id, method, params });
    });
  }

  notify<M extends ToHostName<S>>(method: M, params: z.input<S['toHost'][M]>): void {
    this.api.postMessage({ kind: 'notify', method, params });
  }

  on<M extends ToWebviewName<S>>(method: M, handler: (params: z.output<S['toWebview'][M]>) => void): void {
    this.handlers.set(method, handler as (params: unknown) => void);
  }

  /** Sends `ready` with the state restored from getState(): the host answers with `init` and replays. */
  ready(): void {
    this.api.postMessage({ kind: 'notify', method: 'ready', params: { protocol: PROTOCOL_VERSION, state: this.getState() } });
  }

  getState(): unknown {
    return this.api.getState();
  }

  setState(state: unknown): void {
    this.api.setState(state);
  }

  private receive(raw: unknown): void {
    const env = EnvelopeSchema.safeParse(raw);
    if (!env.success) return this.onProtocolError(`invalid message from the extension: ${describeIssues(env.error)}`);
    const msg = env.data;
    if (msg.kind === 'response') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (!msg.ok) return p.reject(new Error(msg.error ?? 'request failed'));
      const schema = (this.spec.requests as Record<string, { result: z.ZodType }>)[p.method]!.result;
      const r = schema.safeParse(msg.result);
      if (!r.success) return p.reject(new Error(`invalid ${p.method} result: ${describeIssues(r.error)}`));
      return p.resolve(r.data);
    }
    if (msg.kind === 'request') return this.onProtocolError(`unexpected request ${msg.method} from the extension`);
    const schema = (this.spec.toWebview as Record<string, z.ZodType>)[msg.method];
    const handler = this.handlers.get(msg.method);
    if (!schema || !handler) return this.onProtocolError(`unknown notification ${msg.method}`);
    const r = schema.safeParse(msg.params);
    if (!r.success) return this.onProtocolError(`invalid ${msg.method}: ${describeIssues(r.error)}`);
    handler(r.data);
  }
}
