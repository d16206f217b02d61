// Things due at a time, in a binary min-heap with a single timer: cheap for hundreds of thousands of
// pending items, and nothing per item but the item itself.

interface Entry<T> {
  at: number;
  seq: number;
  item: T;
}

export class Timeline<T> {
  private heap: Entry<T>[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;
  private readonly due: (item: T) => void;

  /** `due` is called once for every item when its time (Date.now() milliseconds) has come. */
  constructor(due: (item: T) => void) {
    this.due = due;
  }

  get size(): number {
    return this.heap.length;
  }

  add(at: number, item: T): void {
    if (this.stopped) return;
    const heap = this.heap;
    heap.push({ at, seq: this.seq++, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
    if (at < this.timerAt) this.arm();
  }

  /** The pending items with their times, earliest first (a copy; for inspection). */
  list(limit = Infinity): { at: number; item: T }[] {
    return [...this.heap]
      .sort((a, b) => (before(a, b) ? -1 : 1))
      .slice(0, limit)
      .map((e) => ({ at: e.at, item: e.item }));
  }

  clear(): void {
    this.heap = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private pop(): Entry<T> {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop() as Entry<T>;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left], heap[smallest])) smallest = left;
        if (right < heap.length && before(heap[right], heap[smallest])) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest], heap[i]];
        i = smallest;
      }
    }
    return top;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.heap.length === 0 || this.stopped) return;
    const at = this.heap[0].at;
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    // Bounded per turn so a large backlog does not starve the HTTP server.
    let budget = 5000;
    while (this.heap.length > 0 && this.heap[0].at <= now && budget-- > 0) {
      this.due(this.pop().item);
    }
    if (budget <= 0 && this.heap.length > 0 && this.heap[0].at <= now) {
      this.timerAt = now;
      this.timer = setTimeout(() => this.fire(), 0);
      this.timer.unref();
      return;
    }
    this.arm();
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
