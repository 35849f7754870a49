// Arrays arrive from Python as {buffer: DataView, dtype, shape}; see nnwidgets/core/array_codec.py.

const TYPED = {
  float64: Float64Array,
  float32: Float32Array,
  int32: Int32Array,
  uint8: Uint8Array,
};

/** A typed array over the payload's bytes (no copy), respecting the view's byteOffset. */
export function decodeArray(payload) {
  const Typed = TYPED[payload.dtype];
  if (!Typed) throw new Error(`unsupported dtype ${payload.dtype}`);
  const buf = payload.buffer;
  const view = ArrayBuffer.isView(buf) ? buf : new DataView(buf);
  const length = view.byteLength / Typed.BYTES_PER_ELEMENT;
  if (view.byteOffset % Typed.BYTES_PER_ELEMENT === 0) {
    return new Typed(view.buffer, view.byteOffset, length);
  }
  return new Typed(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}
