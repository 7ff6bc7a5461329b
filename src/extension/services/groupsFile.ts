/**
 * Reads one record of a TraceLift-Groups JSONL file (official schema) without
 * loading the whole file: records are counted over non-blank lines, 0-based.
 * Errors name the file, line and field. No `vscode` import.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { GroupRecordSchema, type GroupRecord } from '../../engine/contract/groups';
import { describeZodError, readTextFile } from '../../engine/util/jsonl';

export async function readGroupRecord(file: string, recordIndex: number): Promise<{ record: GroupRecord; line: number }> {
  if (!fs.existsSync(file)) throw new Error(`TraceLift-Groups file not found: ${file}`);
  const parse = (raw: string, line: number) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new Error(`${file}:${line}: invalid JSON (${(err as Error).message})`);
    }
    const parsed = GroupRecordSchema.safeParse(value);
    if (!parsed.success) throw new Error(`${file}:${line}: not a TraceLift-Groups record: ${describeZodError(parsed.error)}`);
    return { record: parsed.data, line };
  };
  if (file.endsWith('.gz')) {
    const lines = readTextFile(file).split('\n');
    let n = 0;
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.trim()) continue;
      if (n++ === recordIndex) return parse(lines[i]!, i + 1);
    }
    throw new Error(`${file} has ${n} record(s); there is no record ${recordIndex}`);
  }
  const rl = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  let n = 0;
  try {
    for await (const raw of rl) {
      line++;
      if (!raw.trim()) continue;
      if (n++ === recordIndex) return parse(raw, line);
    }
  } finally {
    rl.close();
  }
  throw new Error(`${file} has ${n} record(s); there is no record ${recordIndex}`);
}
