def test_boot(app, client, login):
    login(client)
    for url in ["/", "/orders", "/products", "/stock", "/preparation", "/analytics", "/integrations/", "/healthz"]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.get_data(as_text=True)[:2000])
