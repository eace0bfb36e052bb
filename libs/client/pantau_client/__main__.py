from pantau_client.cli import main

raise SystemExit(main())
