/**
 * A decode failure as a fixed text for the stage that failed, not the decoder's message: libvips keeps one error log
 * for the whole process and sharp's messages carry it, so the same bad frame read "VipsJpeg: premature end of JPEG
 * image", another frame's "vipspng: libpng read error", or nothing, depending on what else was decoded at the time.
 * The text goes into /ar1/timing, replay's output bag and AlpaSim's gRPC errors, which must depend on the frame alone
 * (a driver serving several sessions would otherwise name one session's fault in another's error).
 */
export function decodeFailure(stage: 'header' | 'pixels'): string {
  return stage === 'header' ? 'corrupt or unreadable header' : 'corrupt or truncated image data';
}
