import { InputError } from "../errors.ts";

/** A yes/no setting: 1/0, true/false, yes/no, on/off; anything else is a clear error. */
export function flag(value: string, where: string): boolean {
  const v = value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off", ""].includes(v)) return false;
  throw new InputError(
    `${where}=${JSON.stringify(value)} is not a yes/no value`,
    "use 1 or 0, true or false",
  );
}
