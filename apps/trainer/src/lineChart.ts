/**
 * One curve of a chart: `(x, y)` points; non-finite `y` values leave a gap.
 *
 * @since 0.1.0
 * @category report
 */
export interface ChartSeries {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number | null]>;
  readonly color?: string;
}

/**
 * @since 0.1.0
 * @category report
 */
export interface LineChartOptions {
  readonly title: string;
  readonly series: ReadonlyArray<ChartSeries>;
  readonly xLabel?: string;
  readonly width?: number;
  readonly height?: number;
}

const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

/**
 * Escape text for XML/HTML content and attribute values.
 *
 * @since 0.1.0
 * @category report
 */
export const escapeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/**
 * "Nice" tick values covering `[minimum, maximum]`: steps of 1, 2 or 5 × 10^k, about `count` of them.
 *
 * @since 0.1.0
 * @category report
 */
export const niceTicks = (minimum: number, maximum: number, count = 5): number[] => {
  if (minimum === maximum) return [minimum];
  const rough = (maximum - minimum) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((factor) => factor * magnitude >= rough) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let value = Math.ceil(minimum / step) * step; value <= maximum + step * 1e-9; value += step)
    ticks.push(Number(value.toPrecision(12)));
  return ticks;
};

const formatTick = (value: number): string => {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  return magnitude >= 1e5 || magnitude < 1e-3 ? value.toExponential(1) : String(Number(value.toPrecision(4)));
};

/**
 * Render a line chart to a standalone `<svg>` string (axes, ticks, grid, one polyline per series,
 * a legend). No scripts, fonts or external references.
 *
 * @since 0.1.0
 * @category report
 */
export const lineChartSvg = (options: LineChartOptions): string => {
  const width = options.width ?? 480;
  const height = options.height ?? 260;
  const margin = { left: 56, right: 16, top: 28, bottom: 40 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const finite = options.series.flatMap((series) =>
    series.points.filter(
      (point): point is readonly [number, number] => point[1] !== null && Number.isFinite(point[1]),
    ),
  );
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-family="sans-serif" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  if (finite.length === 0) {
    parts.push(
      `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-family="sans-serif" font-size="12" fill="#888">no data</text>`,
      "</svg>",
    );
    return parts.join("");
  }
  const xs = finite.map((point) => point[0]);
  const ys = finite.map((point) => point[1]);
  let [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  let [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
  if (xMin === xMax) [xMin, xMax] = [xMin - 1, xMax + 1];
  if (yMin === yMax) {
    const pad = Math.abs(yMin) > 0 ? Math.abs(yMin) * 0.1 : 1;
    [yMin, yMax] = [yMin - pad, yMax + pad];
  }
  const xTicks = niceTicks(xMin, xMax);
  const yTicks = niceTicks(yMin, yMax);
  const toX = (x: number) => margin.left + ((x - xMin) / (xMax - xMin)) * plotWidth;
  const toY = (y: number) => margin.top + plotHeight - ((y - yMin) / (yMax - yMin)) * plotHeight;
  const round = (value: number) => Number(value.toFixed(2));
  for (const tick of yTicks)
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${round(toY(tick))}" y2="${round(toY(tick))}" stroke="#eee"/>`,
      `<text x="${margin.left - 6}" y="${round(toY(tick)) + 4}" text-anchor="end" font-family="sans-serif" font-size="10">${formatTick(tick)}</text>`,
    );
  for (const tick of xTicks)
    parts.push(
      `<text x="${round(toX(tick))}" y="${margin.top + plotHeight + 14}" text-anchor="middle" font-family="sans-serif" font-size="10">${formatTick(tick)}</text>`,
    );
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${height - 6}" text-anchor="middle" font-family="sans-serif" font-size="11">${escapeXml(options.xLabel ?? "step")}</text>`,
  );
  options.series.forEach((series, index) => {
    const color = series.color ?? palette[index % palette.length]!;
    let segment: string[] = [];
    const flush = () => {
      if (segment.length === 1) {
        const [x, y] = segment[0]!.split(",");
        parts.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${color}"/>`);
      } else if (segment.length > 1)
        parts.push(
          `<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${segment.join(" ")}"/>`,
        );
      segment = [];
    };
    for (const [x, y] of series.points) {
      if (y === null || !Number.isFinite(y)) flush();
      else segment.push(`${round(toX(x))},${round(toY(y))}`);
    }
    flush();
    const legendY = margin.top + 12 + index * 14;
    parts.push(
      `<line x1="${margin.left + 8}" x2="${margin.left + 22}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${margin.left + 26}" y="${legendY}" font-family="sans-serif" font-size="10">${escapeXml(series.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
};
