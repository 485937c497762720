#include "qr-image.hpp"

#include <qrencode.h>

namespace p2plive::plugin {

QImage make_qr_image(const std::string& text, int scale) {
  QRcode* code = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_L, QR_MODE_8, 1);
  if (!code) return {};
  constexpr int quiet_zone = 2;
  const int size = code->width + 2 * quiet_zone;
  QImage image(size * scale, size * scale, QImage::Format_RGB32);
  image.fill(Qt::white);
  for (int y = 0; y < code->width; ++y) {
    for (int x = 0; x < code->width; ++x) {
      if ((code->data[y * code->width + x] & 1) == 0) continue;  // bit 0: dark module
      for (int dy = 0; dy < scale; ++dy) {
        for (int dx = 0; dx < scale; ++dx) {
          image.setPixel((x + quiet_zone) * scale + dx, (y + quiet_zone) * scale + dy, qRgb(0, 0, 0));
        }
      }
    }
  }
  QRcode_free(code);
  return image;
}

}  // namespace p2plive::plugin
