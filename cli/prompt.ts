/** A yes/no question on the terminal; no answer, Ctrl-C or Ctrl-D mean no. */
import { createInterface } from 'node:readline';

export function confirm(question: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<boolean> {
  const lines = createInterface({ input, output, terminal: Boolean(input.isTTY) });
  return new Promise((resolve) => {
    let answered = false;
    const finish = (yes: boolean) => {
      if (answered) return;
      answered = true;
      lines.close();
      resolve(yes);
    };
    lines.on('SIGINT', () => {
      output.write('\n');
      finish(false);
    });
    lines.on('close', () => finish(false));
    lines.question(question, (answer) => finish(/^y(es)?$/i.test(answer.trim())));
  });
}
