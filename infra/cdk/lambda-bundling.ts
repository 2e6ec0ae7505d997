/**
 * How every Lambda handler is bundled (esbuild through NodejsFunction); the bundle benchmark
 * builds with the same settings. Plain data: reading it does not load aws-cdk-lib.
 */
export const LAMBDA_BUNDLING = {
  minify: true,
  sourceMap: true,
  target: 'node24',
  // The SDK's ESM builds tree-shake; its CJS builds do not (half the bundle size).
  mainFields: ['module', 'main'],
  // The Node 24 runtime ships the AWS SDK v3.
  externalModules: ['@aws-sdk/*'],
  // CommonJS dependencies inside an ESM bundle still call require().
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
} as const;
