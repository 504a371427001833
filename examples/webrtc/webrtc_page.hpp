#pragma once
#include <string_view>

/// The page served at "/": join a room, chat and send a file over an RTCDataChannel (webrtc.html).
std::string_view webrtc_page();
