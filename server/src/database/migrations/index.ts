import { Foundation1764130000000 } from './1764130000000-foundation';

/** Every migration, in order; listed explicitly so the build carries them with no glob at runtime. */
export const migrations = [Foundation1764130000000];
