// p2plive hands broadcast and demo to p2plive-media (beside it, or on PATH), the twin that links FFmpeg,
// so that viewers never load FFmpeg's libraries.
#pragma once

namespace p2plive::cli {

// The commands that run in p2plive-media.
bool is_media_command(const char* name);
// Replaces this process with p2plive-media and the same arguments. Returns only on failure, with the exit
// code after a one-line error.
int hand_over_to_media(char** argv);

}  // namespace p2plive::cli
