/**
 * Host side of the webview bridge: validates every message a webview sends
 * against the view's protocol (src/webviewProtocol), dispatches requests to
 * handlers and answers them, and sends notifications. `post` is
 * webview.postMessage in the extension, or a fake in tests and the benchmark.
 * No `vscode` import.
 */
import {
  EnvelopeSchema,
  describeIssues,
  type RequestName,
  type RequestParams,
  type RequestResultIn,
  type ToHostName,
  type ToWebviewName,
  type ViewProtocol,
} from '../../../webviewProtocol';
import type { z } from 'zod';

type RequestHandler = (params: never) => unknown;
type NotifyHandler = (params: never) => void;

export class HostEndpoint<S extends ViewProtocol> {
  private readonly requestHandlers = new Map<string, RequestHandler>();
  private readonly notifyHandlers = new Map<string, NotifyHandler>();

  constructor(
    private readonly spec: S,
    private readonly post: (message: unknown) => void,
    private readonly log: (line: string) => void = () => {},
  ) {}

  onRequest<M extends RequestName<S>>(
    method: M,
    handler: (params: RequestParams<S, M>) => RequestResultIn<S, M> | Promise<RequestResultIn<S, M>>,
  ): void {
    this.requestHandlers.set(method, handler as RequestHandler);
  }

  onNotify<M extends ToHostName<S>>(method: M, handler: (params: z.output<S['toHost'][M]>) => void): void {
    this.notifyHandlers.set(method, handler as NotifyHandler);
  }

  notify<M extends ToWebviewName<S>>(method: M, params: z.input<S['toWebview'][M]>): void {
    this.post({ kind: 'notify', method, params });
  }

  /** Handles one raw message from the webview. Never throws. */
  async handle(raw: unknown): Promise<void> {
    const env = EnvelopeSchema.safeParse(raw);
    if (!env.success) {
      this.log(`webview sent an invalid message: ${describeIssues(env.error)}`);
      return;
    }
    const msg = env.data;
    if (msg.kind === 'response') {
      this.log('webview sent a response; the host makes no requests');
      return;
    }
    if (msg.kind === 'notify') {
      const schema = (this.spec.toHost as Record<string, z.ZodType>)[msg.method];
      if (!schema) {
        this.log(`unknown notification from webview: ${msg.method}`);
        return;
      }
      const p = schema.safeParse(msg.params);
      if (!p.success) {
        this.log(`invalid ${msg.method} notification: ${describeIssues(p.error)}`);
        return;
      }
      const handler = this.notifyHandlers.get(msg.method);
      if (!handler) return;
      try {
        (handler as (x: unknown) => void)(p.data);
      } catch (err) {
        this.log(`${msg.method} failed: ${(err as Error).message}`);
      }
      return;
    }
    const spec = (this.spec.requests as Record<string, { params: z.ZodType; result: z.ZodType }>)[msg.method];
    const handler = this.requestHandlers.get(msg.method);
    if (!spec || !handler) {
      this.post({ kind: 'response', id: msg.id, ok: false, error: `unknown method ${msg.method}` });
      return;
    }
    const p = spec.params.safeParse(msg.params);
    if (!p.success) {
      this.post({ kind: 'response', id: msg.id, ok: false, error: `invalid parameters for ${msg.method}: ${describeIssues(p.error)}` });
      return;
    }
    try {
      const result = await (handler as (x: unknown) => unknown)(p.data);
      this.post({ kind: 'response', id: msg.id, ok: true, result: result === undefined ? null : result });
    } catch (err) {
      this.post({ kind: 'response', id: msg.id, ok: false, error: (err as Error).message });
    }
  }
}
