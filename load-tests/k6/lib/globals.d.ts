// k6 runs the scenarios in its own JavaScript runtime: `console` is there, Node's and the DOM's types are not.
declare global {
  const console: {
    log(...data: unknown[]): void;
    warn(...data: unknown[]): void;
    error(...data: unknown[]): void;
  };
}

export {};
