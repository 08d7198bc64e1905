/**
 * app: the composition root and the process entry. The only place that reads process.argv,
 * process.env and the working folder, and the only place that sets the exit code.
 */
import { runCli } from '../cli/index.js';

// Long-running commands stop on the first signal; a second one while they wind down exits at once.
const shutdown = new Promise<string>((resolve) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      resolve(signal);
      process.once(signal, () => process.exit(130));
    });
  }
});

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  shutdown,
});
