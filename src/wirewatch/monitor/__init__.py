"""The crawler: outlets' feeds polled on a schedule, their new entries turned into `Article`s.

- `scheduler.py`: when each outlet is polled (APScheduler jobs, backoff, feed hints);
- `poller.py`: one poll of one outlet, feed to articles;
- `fetch_state.py`: what is remembered per outlet between polls, and the store's interface;
- `fetch.py`: HTTP GET with hard limits and the private-address guard;
- `robots.py`: robots.txt for article pages;
- `feeds/`: feed documents to `FeedEntry` records;
- `urls.py`: one spelling per article URL;
- `extract.py`: article pages to plain text.
"""
