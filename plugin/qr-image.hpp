// The viewer link as a QR code (libqrencode), so a phone can pick it up from the screen.
#pragma once

#include <string>

#include <QImage>

namespace p2plive::plugin {

// A black-on-white code with a quiet zone, `scale` pixels a module; a null image if the text does not fit.
QImage make_qr_image(const std::string& text, int scale);

}  // namespace p2plive::plugin
