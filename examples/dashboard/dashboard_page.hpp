#pragma once
#include <string_view>

/// The dashboard page (dashboard.html), compiled in.
std::string_view dashboard_page();
