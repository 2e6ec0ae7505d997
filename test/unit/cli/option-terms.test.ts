import { describe, expect, it } from 'vitest';
import { inCliTerms } from '../../../cli/option-terms.ts';

describe('option names in the CLI', () => {
  it("names an option by its flag in the API's hints", () => {
    // Act
    const text = inCliTerms('hint: the app listens on 0.0.0.0:5173, not on port 3000: listen on $PORT, or set options.port to 5173');

    // Assert
    expect(text).toBe('hint: the app listens on 0.0.0.0:5173, not on port 3000: listen on $PORT, or set --port to 5173');
  });

  it('names every option of a validation error by its flag', () => {
    // Act
    const text = inCliTerms('options.healthPath must start with /; options.timeoutSeconds must be at most 86400; pass options.startCommand');

    // Assert
    expect(text).toBe('--health-path must start with /; --timeout must be at most 86400; pass --start');
  });

  it('names one variable of the env as --env NAME', () => {
    // Act
    const text = inCliTerms('options.env.BIG: must be at most 4096 bytes');

    // Assert
    expect(text).toBe('--env BIG: must be at most 4096 bytes');
  });

  it('leaves other fields and words alone', () => {
    // Act
    const text = inCliTerms('files[2].path must be relative; the options.portal page');

    // Assert
    expect(text).toBe('files[2].path must be relative; the options.portal page');
  });
});
