/** The code task modules, for the task registry. */
import type { TaskModule } from '../types';
import { humaneval } from './humaneval';
import { humanevalplus } from './humanevalplus';
import { mbpp } from './mbpp';
import { mbppplus } from './mbppplus';
import { livecodebench } from './livecodebench';
import { codeContests } from './codeContests';

export { humaneval, humanevalplus, mbpp, mbppplus, livecodebench, codeContests };
export const CODE_TASKS: readonly TaskModule[] = [humaneval, humanevalplus, mbpp, mbppplus, livecodebench, codeContests];
