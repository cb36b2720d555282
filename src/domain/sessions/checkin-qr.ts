/**
 * The check-in QR code an officer prints and puts at the door: a deep link that opens the bot
 * with the session's token (the residents' feature records attendance).
 */

/** Pixels across: about 8.5 cm at 300 dpi, large enough to print on an A4 sheet and scan from a step away. */
export const QR_WIDTH_PX = 1000;

export function checkinLink(botUsername: string, token: string): string {
  return `https://t.me/${botUsername}?start=ci_${token}`;
}

/** A PNG of the link; error correction M survives a smudged or creased print. */
export async function checkinQrPng(link: string): Promise<Buffer> {
  // Loaded when a code is made: the library stays out of the bot's memory until then.
  const { default: QRCode } = await import("qrcode");
  return QRCode.toBuffer(link, { type: "png", errorCorrectionLevel: "M", margin: 2, width: QR_WIDTH_PX });
}
