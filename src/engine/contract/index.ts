/** The engine's data contract: every record crossing a process or file boundary. */
export * from './problems';
export * from './groups';
export * from './config';
export * from './events';
export * from './codeTests';
export * from './protocol';
export * from './train';
export * from './rm';
