/**
 * The part of an OpenAI-compatible chat / completions response the engine
 * reads, validated before use: a server's body is untrusted input. Unknown
 * fields are ignored; what is missing or of the wrong type is a failed call
 * (the whole body) or a failed generation (one choice), said in words.
 */
import { z } from 'zod';
import { InvalidResponseError } from './failures';

export const CompletionBodySchema = z.object({ choices: z.array(z.unknown()) });

export const ChatChoiceSchema = z.object({
  finish_reason: z.string().nullish(),
  message: z.object({ content: z.string().nullish() }).nullish(),
});

export const TextChoiceSchema = z.object({
  finish_reason: z.string().nullish(),
  text: z.string().nullish(),
});

/** Throws InvalidResponseError unless `text` is a JSON body with at least one choice. */
export function checkCompletionBody(text: string): void {
  if (!text.trim()) throw new InvalidResponseError('executor returned an empty body');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidResponseError(`executor returned a body that is not JSON (${Buffer.byteLength(text)} bytes)`, snippet(text));
  }
  const body = CompletionBodySchema.safeParse(value);
  if (!body.success) {
    const error = (value as { error?: { message?: unknown } } | null)?.error;
    if (error)
      throw new InvalidResponseError(
        'executor returned an error in a 200 response',
        oneLine(typeof error.message === 'string' ? error.message : JSON.stringify(error)),
      );
    throw new InvalidResponseError('executor returned a response without choices', snippet(text));
  }
  if (body.data.choices.length === 0) throw new InvalidResponseError('executor returned no choices');
}

export interface ChoiceOutcome {
  text: string | null;
  error: string | null;
  finish_reason: string | null;
}

/** One choice of a checked body as a generation's text, or why it has none. */
export function readChoice(raw: unknown, api: 'chat' | 'completions'): ChoiceOutcome {
  if (api === 'chat') {
    const parsed = ChatChoiceSchema.safeParse(raw);
    return parsed.success ? outcome(parsed.data.message?.content, parsed.data.finish_reason, 'message content') : MALFORMED;
  }
  const parsed = TextChoiceSchema.safeParse(raw);
  return parsed.success ? outcome(parsed.data.text, parsed.data.finish_reason, 'text') : MALFORMED;
}

const MALFORMED: ChoiceOutcome = { text: null, error: 'executor returned a malformed choice', finish_reason: null };

function outcome(text: string | null | undefined, finish: string | null | undefined, what: string): ChoiceOutcome {
  const finish_reason = finish ?? null;
  if (typeof text === 'string') return { text, error: null, finish_reason };
  return { text: null, error: `executor returned a choice without ${what} (finish_reason: ${finish_reason ?? 'none'})`, finish_reason };
}

/** The start of an untrusted body, on one line, for an error message. */
function snippet(text: string): string {
  const head = text.slice(0, 100).replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return `body begins ${head}${text.length > 100 ? '…' : ''}`;
}

function oneLine(text: string): string {
  return text.slice(0, 200).replace(/[\u0000-\u001f\u007f]+/g, ' ');
}
