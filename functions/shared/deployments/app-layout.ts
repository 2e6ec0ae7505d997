/** Where a deployment's files, app and logs live inside its sandbox. */
export const APP_DIR = '/home/user/app';
export const LOG_DIR = '/home/user/.coderunner/logs';
export const INSTALL_LOG = `${LOG_DIR}/install.log`;
export const BUILD_LOG = `${LOG_DIR}/build.log`;
export const APP_STDOUT_LOG = `${LOG_DIR}/app.out.log`;
export const APP_STDERR_LOG = `${LOG_DIR}/app.err.log`;
/** Marks our sandboxes among any others the account has (the sweep only touches these). */
export const MANAGED_BY = 'coderunner';
