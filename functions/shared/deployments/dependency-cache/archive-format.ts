/**
 * How a dependency archive is packed: a tar of node_modules, compressed with zstd where the
 * sandbox has it (about twice as fast to unpack), else with gzip, which every image has.
 */
export type DependencyArchiveFormat = 'tar.zst' | 'tar.gz';

/** The pipeline stages that compress (stdin to stdout) and decompress an archive. */
export const ARCHIVE_CODECS: Readonly<Record<DependencyArchiveFormat, { compress: string; decompress: string }>> = Object.freeze({
  'tar.zst': { compress: 'zstd -q -1 -T0', decompress: 'zstd -q -d -c' },
  'tar.gz': { compress: 'gzip -1', decompress: 'gzip -d -c' },
});

export function archiveFormat(sandboxHasZstd: boolean): DependencyArchiveFormat {
  return sandboxHasZstd ? 'tar.zst' : 'tar.gz';
}
