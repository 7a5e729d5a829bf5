/** Progress lines go to stderr, so stdout stays shell-sourceable (`env`, `up`). */
export type Logger = (line: string) => void;

export const stderrLogger: Logger = (line) => {
  process.stderr.write(`kiln-stack: ${line}\n`);
};

export const silentLogger: Logger = () => {};
