/**
 * Whether the Python that will train can use a GPU, asked of torch itself.
 * A recipe with device "cuda" is refused before anything starts when the
 * answer is no, with what to do about it: the same advice `tracelift doctor`
 * gives for its GPU line (NO_GPU_FIX).
 */
import { execFile } from 'node:child_process';

/** What to do when no GPU is usable (the doctor's GPU line and the launcher's refusal). */
export const NO_GPU_FIX =
  'run on a machine with an NVIDIA GPU and a CUDA build of torch in the training environment ($TRACELIFT_PYTHON or .venv; ' +
  'install the CUDA wheel of the pinned torch version of backend/requirements-train.txt that matches the driver, before the other ' +
  'training packages), or use a CPU recipe (recipes/cpu-smollm2.json) or set "device": "cpu"';

export async function cudaAvailable(python: string): Promise<{ available: boolean; detail: string }> {
  return new Promise((resolve) => {
    execFile(python, ['-c', 'import torch; print(torch.cuda.is_available())'], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) {
        const why = /No module named ['"]?torch/.test(stderr)
          ? 'torch is not installed there'
          : (stderr.trim().split('\n').at(-1) ?? err.message);
        resolve({ available: false, detail: `${python}: ${why}` });
        return;
      }
      const answer = stdout.trim();
      resolve({ available: answer === 'True', detail: `${python}: torch.cuda.is_available() is ${answer}` });
    });
  });
}

/** Throws, with the fix, when the config wants CUDA and the trainer's Python has none. */
export async function requireGpuIfAsked(device: 'auto' | 'cpu' | 'cuda', python: string): Promise<void> {
  if (device !== 'cuda') return;
  const { available, detail } = await cudaAvailable(python);
  if (available) return;
  throw new Error(
    `This recipe needs a GPU (device "cuda"), and none is usable (${detail}). To fix it: ${NO_GPU_FIX}. ` +
      '`tracelift doctor` reports the whole training environment.',
  );
}
