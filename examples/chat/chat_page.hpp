#pragma once
#include <string_view>

/// The chat page (chat.html), compiled in.
std::string_view chat_page();
