/** A user-supplied value quoted for an error message: control characters visible, long values cut. */
export function show(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(cut);
}
