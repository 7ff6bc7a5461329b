/** `tracelift doctor`: what the training environment has and what it lacks (src/engine/train/doctor.ts). */
import { Command } from 'commander';
import { formatDoctorReport, runDoctor } from '../engine/train/doctor';
import { positiveNumber } from './options';

interface DoctorFlags {
  python?: string;
  executorUrl?: string;
  executorModel?: string;
  executorKeyEnv?: string;
  dataDir?: string;
  modelFile?: string;
  timeout: number;
  json?: boolean;
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'Check the training environment: the Python used, torch/CUDA/devices, TRL and friends, the llama.cpp server, bubblewrap, ' +
        'the embedded model, an executor endpoint, the benchmark data; says what is missing and how to install it. ' +
        'Exit status 0 when training on the CPU is possible.',
    )
    .option('--python <path>', 'Python of the training environment (default: $TRACELIFT_PYTHON or .venv)')
    .option('--executor-url <url>', 'also probe this OpenAI-compatible executor endpoint (GET <url>/models)')
    .option('--executor-model <name>', 'the model that endpoint should serve')
    .option('--executor-key-env <VAR>', 'environment variable holding the endpoint API key')
    .option('--data-dir <dir>', 'benchmark data directory (default: $TRACELIFT_DATA_DIR or ../shared/data)')
    .option('--model-file <path>', 'the embedded GGUF (default: $TRACELIFT_EMBEDDED_MODEL or models/)')
    .option('--timeout <seconds>', 'seconds the Python probe may take', positiveNumber, 120)
    .option('--json', 'print the report as one JSON object')
    .action(async (flags: DoctorFlags) => {
      const report = await runDoctor({
        pythonPath: flags.python,
        executorUrl: flags.executorUrl,
        executorModel: flags.executorModel,
        executorKeyEnv: flags.executorKeyEnv,
        dataDir: flags.dataDir,
        modelPath: flags.modelFile,
        probeTimeoutS: flags.timeout,
      });
      process.stdout.write(flags.json ? JSON.stringify(report) + '\n' : formatDoctorReport(report));
      process.exitCode = report.cpu_training ? 0 : 1;
    });
}
