/**
 * Reading one record of a TraceLift-Groups file: the engine's reader
 * (engine/groups), under the name the trace diff controller imports.
 */
export { readGroupRecordAt as readGroupRecord } from '../../engine/groups';
