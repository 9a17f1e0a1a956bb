/**
 * A function of a string, computed once per distinct argument: for values worked out from a
 * webhook's settings (a signing key, a normalized URL) that every delivery would otherwise
 * compute again. At most `maximumEntries` are kept; past that the memory starts over.
 */
export function memoizedByString<T>(compute: (key: string) => T, maximumEntries = 10_000): (key: string) => T {
  const values = new Map<string, T>();
  return (key) => {
    let value = values.get(key);
    if (value === undefined) {
      value = compute(key);
      if (values.size >= maximumEntries) values.clear();
      values.set(key, value);
    }
    return value;
  };
}
