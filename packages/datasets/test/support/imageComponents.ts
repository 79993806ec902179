import { PNG } from "pngjs";
import { type DatasetItem, type ShapeColor, SYNTHETIC_COLORS } from "../../src/index.js";

export interface Component {
  readonly color: ShapeColor;
  readonly pixels: number;
  readonly width: number;
  readonly height: number;
}

/** Decode an item's PNG and label every pixel by exact palette colour (white is background). */
export const decode = (item: DatasetItem) => {
  const png = PNG.sync.read(Buffer.from(item.images[0] as Uint8Array));
  const labels: Array<ShapeColor | "background" | "unknown"> = [];
  for (let pixel = 0; pixel < png.width * png.height; pixel++) {
    const [r, g, b] = [png.data[pixel * 4], png.data[pixel * 4 + 1], png.data[pixel * 4 + 2]];
    const match = (Object.keys(SYNTHETIC_COLORS) as Array<ShapeColor>).find((name) => {
      const [cr, cg, cb] = SYNTHETIC_COLORS[name];
      return r === cr && g === cg && b === cb;
    });
    labels.push(match ?? (r === 255 && g === 255 && b === 255 ? "background" : "unknown"));
  }
  return { width: png.width, height: png.height, labels };
};

/** 4-connected components of equal colour, found by flood fill. */
export const components = (item: DatasetItem): ReadonlyArray<Component> => {
  const { width, height, labels } = decode(item);
  const seen = new Uint8Array(width * height);
  const found: Array<Component> = [];
  for (let start = 0; start < labels.length; start++) {
    const color = labels[start]!;
    if (seen[start] || color === "background" || color === "unknown") continue;
    const stack = [start];
    seen[start] = 1;
    let pixels = 0;
    let [left, right, top, bottom] = [width, -1, height, -1];
    while (stack.length > 0) {
      const pixel = stack.pop()!;
      const [x, y] = [pixel % width, Math.floor(pixel / width)];
      pixels++;
      [left, right, top, bottom] = [
        Math.min(left, x),
        Math.max(right, x),
        Math.min(top, y),
        Math.max(bottom, y),
      ];
      const neighbours = [
        x > 0 ? pixel - 1 : -1,
        x < width - 1 ? pixel + 1 : -1,
        pixel - width,
        pixel + width,
      ];
      for (const next of neighbours)
        if (next >= 0 && next < labels.length && !seen[next] && labels[next] === color) {
          seen[next] = 1;
          stack.push(next);
        }
    }
    found.push({ color, pixels, width: right - left + 1, height: bottom - top + 1 });
  }
  return found;
};
