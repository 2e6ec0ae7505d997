/** Collects SET/REMOVE clauses with placeholder names and values; always bumps the version. */
export class UpdateBuilder {
  readonly #sets: string[] = [];
  readonly #removes: string[] = [];
  readonly #names: Record<string, string> = { '#status': 'status', '#version': 'version', '#updatedAt': 'updatedAt' };
  readonly #values: Record<string, unknown> = { ':one': 1 };

  constructor(now: string) {
    this.#sets.push('#version = #version + :one', '#updatedAt = :updatedAt');
    this.#values[':updatedAt'] = now;
  }

  value(name: string, value: unknown): string {
    this.#values[`:${name}`] = value;
    return `:${name}`;
  }

  set(attribute: string, value: unknown): void {
    this.#names[`#${attribute}`] = attribute;
    this.#sets.push(`#${attribute} = ${this.value(attribute, value)}`);
  }

  setNested(map: string, key: string, value: unknown): void {
    const keyName = `#${map}_${key.replace(/\W/g, '_')}`;
    this.#names[`#${map}`] = map;
    this.#names[keyName] = key;
    this.#sets.push(`#${map}.${keyName} = ${this.value(`${map}_${key.replace(/\W/g, '_')}`, value)}`);
  }

  remove(attribute: string): void {
    this.#names[`#${attribute}`] = attribute;
    this.#removes.push(`#${attribute}`);
  }

  build(condition: string) {
    const expression = [`SET ${this.#sets.join(', ')}`, this.#removes.length ? `REMOVE ${this.#removes.join(', ')}` : ''].join(' ').trim();
    const usedNames = Object.fromEntries(
      Object.entries(this.#names).filter(([placeholder]) => expression.includes(placeholder) || condition.includes(placeholder)),
    );
    return {
      UpdateExpression: expression,
      ConditionExpression: condition,
      ExpressionAttributeNames: usedNames,
      ExpressionAttributeValues: this.#values,
    };
  }
}
