/**
 * The groups builder's prompts are versioned data (src/engine/prompts/perturb/v1.json):
 * the LLM perturbation prompts per negative kind and the rubric judge prompts
 * per domain. The version is part of the LLM output cache key and of every
 * record's metadata, so an edited prompt never reuses old outputs.
 */
import { z } from 'zod';
import v1 from '../../prompts/perturb/v1.json';

const MessagePairSchema = z.object({ system: z.string(), user: z.string() });

export const PerturbPromptSetSchema = z.object({
  version: z.string(),
  notes: z.string().optional(),
  sampling: z.object({ temperature: z.number().min(0), max_tokens: z.number().int().positive() }),
  perturb: z.record(z.string(), MessagePairSchema),
  rubric_judge: z.object({ math: MessagePairSchema, code: MessagePairSchema }),
});
export type PerturbPromptSet = z.infer<typeof PerturbPromptSetSchema>;

export const PERTURB_PROMPTS: PerturbPromptSet = PerturbPromptSetSchema.parse(v1);
