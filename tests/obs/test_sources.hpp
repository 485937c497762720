#pragma once
// Sources that headless_stream registers with libobs (see test_sources.cpp).
#include <cstdint>

inline constexpr std::uint32_t test_width = 640, test_height = 360, test_fps = 30;
inline constexpr std::uint32_t test_sample_rate = 48000;
// p2plive_test_marks: a flash and a burst of this length start together every period.
inline constexpr double mark_period_s = 5.0;
inline constexpr double mark_length_s = 0.1;

// Registers p2plive_test_sine (a tone) and p2plive_test_marks (A/V sync marks). Call after obs_startup.
void register_test_sources();
