import * as tf from "@tensorflow/tfjs-core";

/**
 * Collects scalar metric tensors inside an objective's `tf.tidy` and reads them back asynchronously
 * (`data()`), as a GPU backend requires. Each recorded scalar is copied and kept out of the tidy;
 * the copies are released once read. Use it to fill `ObjectiveOutput.deviceMetrics`.
 *
 * @example
 * ```ts
 * const device = new DeviceMetrics()
 * const loss = tf.tidy(() => { const l = ...; device.record("loss", l); return l })
 * return { loss, metrics: {}, deviceMetrics: device.read() }
 * ```
 *
 * @since 0.1.0
 * @category objectives
 */
export class DeviceMetrics {
  private readonly scalars: Array<readonly [string, tf.Tensor]> = [];

  /** Record `tensor`'s first value as metric `name` (call inside the tidy that makes it). */
  record(name: string, tensor: tf.Tensor): void {
    this.scalars.push([name, tf.keep(tf.clone(tensor))]);
  }

  /** Start reading every recorded scalar; resolves to `{ name: value }`. */
  read(): Promise<Readonly<Record<string, number>>> {
    const scalars = this.scalars.splice(0);
    return Promise.all(
      scalars.map(async ([name, tensor]) => {
        try {
          return [name, (await tensor.data())[0] ?? 0] as const;
        } finally {
          tensor.dispose();
        }
      }),
    ).then(Object.fromEntries);
  }
}
