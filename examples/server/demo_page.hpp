#pragma once
#include <string_view>

/// The demo page served at "/": one topic watched over WebSocket, SSE and long polling side by side.
std::string_view demo_page();
