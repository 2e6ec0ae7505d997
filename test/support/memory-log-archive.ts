/** Moved to ./fakes/ with the other fakes; kept here for the benchmarks that import it. */
export { MemoryLogArchive } from './fakes/memory-log-archive.ts';
