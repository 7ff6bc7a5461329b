/** Small commands: list tasks, export the contract's JSON Schemas. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { contractSchemaFiles } from '../engine/contract/jsonSchemas';
import { listTasks } from '../engine/tasks/registry';

export function registerMiscCommands(program: Command): void {
  program
    .command('tasks')
    .description('List the tasks, their splits and the files they read.')
    .action(() => {
      for (const t of listTasks()) {
        process.stdout.write(`${t.name.padEnd(16)} ${t.kind.padEnd(5)} splits: ${t.splits.join(', ').padEnd(12)} ${t.description}\n`);
        for (const f of t.files) process.stdout.write(`${''.padEnd(23)}${f.split}: <data-dir>/${f.path}\n`);
      }
    });
  program
    .command('schemas')
    .description('Write the JSON Schemas of the data contract (generated from the zod schemas).')
    .requiredOption('--out <dir>', 'output directory')
    .action((flags: { out: string }) => {
      // The same files, byte for byte, as `npm run schemas` commits for the Python side.
      const files = contractSchemaFiles();
      fs.mkdirSync(flags.out, { recursive: true });
      for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(flags.out, name), text);
      process.stdout.write(`wrote ${Object.keys(files).length} schemas to ${flags.out}\n`);
    });
}
