"""
The API's rate limit for anonymous clients: DRF's AnonRateThrottle (its rates, its cache
key, its 429 with Retry-After), counted in one call to the cache instead of two.

DRF's own keeps each client's list of request times, read and then written back on every
request: two round trips to a shared cache, and two workers reading the same list at once
count one request. Here a client's requests are counted in windows of the rate's duration,
each starting at the client's first request after the last one ended: a Redis INCR, with
the window's expiry set only when the count is new, and the time left read in the same
round trip (tracker.cache). Any other cache (local
memory, without REDIS_URL) counts through get and set, as DRF does.
"""

from rest_framework import throttling

from tracker.cache import count_in_window


class AnonRateThrottle(throttling.AnonRateThrottle):
    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        count, self.left = count_in_window(self.cache, self.key, self.duration)
        return count <= self.num_requests

    def wait(self):
        return max(0.0, self.left)
