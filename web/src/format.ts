// How numbers and moments read on every page.

export const credits = (count: number) =>
  `${count.toLocaleString('en')} ${Math.abs(count) === 1 ? 'credit' : 'credits'}`;

/** A change of credits with its sign: "+10", "−2", "0". */
export const signed = (count: number) =>
  count > 0 ? `+${count.toLocaleString('en')}` : count < 0 ? `−${(-count).toLocaleString('en')}` : '0';

/** A moment in UTC, to the second: "01 Dec 2026 20:03:04". */
export const timeText = (at: string) => new Date(at).toUTCString().slice(5, 25);
