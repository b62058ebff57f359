/** A user's value quoted for an error message: control characters made visible, long values cut. */
export function show(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(cut);
}
